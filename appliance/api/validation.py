"""Input validation: a schema is a dict of field name -> Field; validate() returns clean values or
raises Invalid with every problem at once, in French, per field (DRF's error shape)."""
import ipaddress
import re
from datetime import date, datetime, timezone

from appliance.errors import Invalid

MISSING = object()
REQUIRED = 'Ce champ est obligatoire.'
NOT_NULL = 'Ce champ ne peut pas être nul.'


class Problem(Exception):
    pass


class Field:
    type_name = 'string'

    def __init__(self, *, required=False, null=False, read_only=False, write_only=False,
                 description=''):
        self.required, self.null, self.read_only, self.write_only = required, null, read_only, write_only
        self.description = description

    def clean(self, value):
        return value

    def openapi(self):
        schema = {'type': self.type_name}
        if self.null:
            schema['nullable'] = True
        if self.read_only:
            schema['readOnly'] = True
        if self.write_only:
            schema['writeOnly'] = True
        if self.description:
            schema['description'] = self.description
        return schema


class Text(Field):
    def __init__(self, max_length=255, *, blank=True, **kw):
        super().__init__(**kw)
        self.max_length, self.blank = max_length, blank

    def clean(self, value):
        if not isinstance(value, str):
            raise Problem('Une chaîne de caractères est requise.')
        value = value.strip()
        if not value and not self.blank:
            raise Problem('Ce champ ne peut pas être vide.')
        if len(value) > self.max_length:
            raise Problem(f'Au plus {self.max_length} caractères.')
        if '\x00' in value:
            raise Problem('Caractère nul interdit.')
        return value

    def openapi(self):
        return {**super().openapi(), 'maxLength': self.max_length}


class Password(Field):
    def __init__(self, **kw):
        super().__init__(write_only=True, **kw)

    def clean(self, value):
        if not isinstance(value, str) or not value:
            raise Problem('Un mot de passe est requis.')
        if len(value) > 1000:
            raise Problem('Mot de passe trop long.')
        return value


class Email(Text):
    PATTERN = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')

    def __init__(self, **kw):
        super().__init__(254, **kw)

    def clean(self, value):
        value = super().clean(value)
        if value and not self.PATTERN.match(value):
            raise Problem('Saisissez une adresse e-mail valide.')
        return value.lower()

    def openapi(self):
        return {**super().openapi(), 'format': 'email'}


class Boolean(Field):
    type_name = 'boolean'

    def clean(self, value):
        if isinstance(value, bool):
            return value
        raise Problem('Un booléen (true ou false) est requis.')


class Integer(Field):
    type_name = 'integer'

    def __init__(self, minimum=None, maximum=None, **kw):
        super().__init__(**kw)
        self.minimum, self.maximum = minimum, maximum

    def clean(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise Problem('Un nombre entier est requis.')
        if isinstance(value, str) and not re.fullmatch(r'-?[0-9]{1,19}', value.strip()):
            raise Problem('Un nombre entier est requis.')  # int() would also take "1_0" or "٥"
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except ValueError:
            number = None
        if number is None:
            raise Problem('Un nombre entier est requis.')
        if self.minimum is not None and number < self.minimum:
            raise Problem(f'Doit être supérieur ou égal à {self.minimum}.')
        if self.maximum is not None and number > self.maximum:
            raise Problem(f'Doit être inférieur ou égal à {self.maximum}.')
        return number

    def openapi(self):
        schema = super().openapi()
        if self.minimum is not None:
            schema['minimum'] = self.minimum
        if self.maximum is not None:
            schema['maximum'] = self.maximum
        return schema


class Choice(Field):
    def __init__(self, choices, **kw):
        super().__init__(**kw)
        self.choices = tuple(choices)

    def clean(self, value):
        if value not in self.choices:
            raise Problem(f'« {value} » n’est pas un choix valide : {", ".join(self.choices)}.')
        return value

    def openapi(self):
        return {**super().openapi(), 'enum': list(self.choices)}


class Date(Field):
    def clean(self, value):
        if not isinstance(value, str):
            raise Problem('Une date au format AAAA-MM-JJ est requise.')
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise Problem('Une date au format AAAA-MM-JJ est requise.') from None
        if not date(1900, 1, 1) <= parsed <= date.today():
            raise Problem('Date hors limites.')
        return parsed

    def openapi(self):
        return {**super().openapi(), 'format': 'date'}


class IPAddress(Field):
    def clean(self, value):
        try:
            address = ipaddress.ip_address(str(value).strip())
        except ValueError:
            raise Problem('Saisissez une adresse IPv4 ou IPv6 valide.') from None
        if getattr(address, 'scope_id', None):
            # "fe80::1%eth0" names an interface of the sender, not a poste (and overflows the column).
            raise Problem('Adresse IPv6 sans zone (%…) attendue.')
        return str(address)


class MACAddress(Field):
    def clean(self, value):
        if not isinstance(value, str):
            raise Problem('Adresse MAC invalide.')
        digits = re.sub(r'[^0-9A-Fa-f]', '', value)
        if len(digits) != 12 or not re.fullmatch(r'[0-9A-Fa-f:\-. ]+', value.strip()):
            raise Problem('Adresse MAC invalide (par exemple AA:BB:CC:DD:EE:FF).')
        return ':'.join(digits[i:i + 2] for i in range(0, 12, 2)).upper()


class Reference(Field):
    """The id of a row of `model`."""
    type_name = 'integer'

    def __init__(self, model, **kw):
        super().__init__(**kw)
        self.model = model

    def clean(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise Problem('Identifiant invalide.')
        if isinstance(value, str) and not re.fullmatch(r'[0-9]{1,19}', value.strip()):
            raise Problem('Identifiant invalide.')  # int() would also take "0_7" or "٧"
        number = int(value)
        row = self.model.get_or_none(self.model.id == number) if 0 < number < 2 ** 63 else None
        if row is None:
            raise Problem(f'Identifiant « {value} » introuvable.')
        return row


def validate(data, schema, *, partial=False):
    """Clean `data` against `schema`. With `partial` (PATCH), absent fields are left alone."""
    cleaned, errors = {}, {}
    for name, field in schema.items():
        if field.read_only:
            continue
        value = data.get(name, MISSING)
        if value is MISSING:
            if field.required and not partial:
                errors[name] = [REQUIRED]
            continue
        if value is None:
            if field.null:
                cleaned[name] = None
            else:
                errors[name] = [NOT_NULL]
            continue
        try:
            cleaned[name] = field.clean(value)
        except Problem as problem:
            errors[name] = [str(problem)]
    if errors:
        raise Invalid(errors)
    return cleaned


def parse_datetime_param(name, value):
    """A query parameter as a naive UTC datetime (a bare date means its midnight)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace('Z', '+00:00'))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 pushed out by its offset
        raise Invalid({name: ['Date invalide : utilisez AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS.']}) from None
    return parsed


def schema_openapi(schema, *, partial=False):
    """An OpenAPI object schema for a validation schema (no field required when `partial`)."""
    result = {'type': 'object', 'properties': {name: field.openapi() for name, field in schema.items()}}
    required = [] if partial else [name for name, field in schema.items() if field.required]
    if required:  # OpenAPI 3.0 (JSON Schema draft 5) forbids an empty `required` list
        result['required'] = required
    return result
