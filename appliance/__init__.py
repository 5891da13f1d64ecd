"""Poste Public: public computer sessions for libraries, as one offline appliance."""

__version__ = '0.1.0'
