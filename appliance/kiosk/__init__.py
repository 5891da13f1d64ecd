"""The kiosk client: the lock screen of a public computer (docs/kiosk.md).

Plain threads and Tk: never imported by the gevent server, never gevent-patched.
"""
