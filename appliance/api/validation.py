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

    # What the document states of a text: no NUL character anywhere and, when it may not be blank,
    # at least one character that is not a space (spaces around the text are dropped).
    ANY, NOT_BLANK = '^[^\\u0000]*$', '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$'

    def clean(self, value):
        if not isinstance(value, str):
            raise Problem('Une chaîne de caractères est requise.')
        if len(value) > self.max_length:   # as sent: the document's maxLength
            raise Problem(f'Au plus {self.max_length} caractères.')
        if '\x00' in value:
            raise Problem('Caractère nul interdit.')
        value = value.strip()
        if not value and not self.blank:
            raise Problem('Ce champ ne peut pas être vide.')
        return value

    def openapi(self):
        schema = {**super().openapi(), 'maxLength': self.max_length,
                  'pattern': self.ANY if self.blank else self.NOT_BLANK}
        if not self.blank:
            schema['minLength'] = 1
        return schema


class Password(Field):
    def __init__(self, **kw):
        super().__init__(write_only=True, **kw)

    def clean(self, value):
        if not isinstance(value, str) or not value:
            raise Problem('Un mot de passe est requis.')
        if len(value) > 1000:
            raise Problem('Mot de passe trop long.')
        if '\x00' in value:
            raise Problem('Caractère nul interdit.')
        return value

    def openapi(self):
        return {**super().openapi(), 'minLength': 1, 'maxLength': 1000, 'pattern': Text.ANY}


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
        # A pattern rather than `format: email`: an empty text is accepted (no e-mail).
        return {**super().openapi(), 'pattern': '^([^@\\s\\u0000]+@[^@\\s\\u0000]+\\.[^@\\s\\u0000]+)?$'}


class Boolean(Field):
    """A boolean; with `only_true`, false is refused with that message (a consent)."""
    type_name = 'boolean'

    def __init__(self, *, only_true=None, **kw):
        super().__init__(**kw)
        self.only_true = only_true

    def clean(self, value):
        if not isinstance(value, bool):
            raise Problem('Un booléen (true ou false) est requis.')
        if self.only_true and not value:
            raise Problem(self.only_true)
        return value

    def openapi(self):
        schema = super().openapi()
        if self.only_true:
            schema['enum'] = [True]
        return schema


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
    """One of `choices`; `refused` maps values known but not accepted here to their message;
    `documented`: the choices the document lists, when the handler refuses some in most states."""

    def __init__(self, choices, *, refused=None, documented=None, **kw):
        super().__init__(**kw)
        self.choices = tuple(choices)
        self.refused = refused or {}
        self.documented = tuple(documented or self.choices)

    def clean(self, value):
        if isinstance(value, str) and value in self.refused:
            raise Problem(self.refused[value])
        if value not in self.choices:
            raise Problem(f'« {value} » n’est pas un choix valide : {", ".join(self.choices)}.')
        return value

    def openapi(self):
        return {**super().openapi(), 'enum': list(self.documented)}


class Date(Field):
    """A date AAAA-MM-JJ, from 1900 to today (a birth date)."""
    PATTERN = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}')

    def clean(self, value):
        if not isinstance(value, str) or not self.PATTERN.fullmatch(value):
            raise Problem('Une date au format AAAA-MM-JJ est requise.')
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise Problem('Une date au format AAAA-MM-JJ est requise.') from None
        if not date(1900, 1, 1) <= parsed <= date.today():
            raise Problem('Date hors limites.')
        return parsed

    def openapi(self):
        return {**super().openapi(), 'format': 'date', 'description': 'De 1900 à aujourd’hui.'}


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


class Echoed(Field):
    """A field the API shows but never takes: a client that sends back what it read (`id`,
    `created_at`…) is not refused for it, and the value is ignored."""

    def __init__(self):
        super().__init__(read_only=True)

    def openapi(self):
        return {'readOnly': True, 'description': 'Renvoyé par l’API ; ignoré s’il est envoyé.'}


def echoing(schema, *names):
    """`schema` plus the read-only fields `names` of the resource's JSON (see Echoed)."""
    return {**schema, **{name: Echoed() for name in names if name not in schema}}


class Reference(Field):
    """The id of a row of `model`."""
    type_name = 'integer'

    def openapi(self):
        return {**super().openapi(), 'minimum': 1}

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


UNKNOWN = 'Champ inconnu : il n’est pas accepté ici.'


def validate(data, schema, *, partial=False):
    """Clean `data` against `schema`. With `partial` (PATCH), absent fields are left alone. A field
    the schema does not know is refused, not dropped: a misspelt field would otherwise be silently
    ignored (fields the schema marks read-only, echoed back from a GET, are accepted and ignored)."""
    cleaned, errors = {}, {}
    for name in data:
        if not isinstance(schema.get(name), Field):
            errors[str(name)[:100]] = [UNKNOWN]
    rules = []
    for name, field in schema.items():
        if isinstance(field, OneOf):
            rules.append(field)
            continue
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
    if not partial:
        for rule in rules:
            rule.check(data, errors)
    if errors:
        raise Invalid(errors)
    return cleaned


def parse_datetime_param(name, value):
    """A query parameter as a naive UTC datetime (a bare date means its midnight)."""
    try:
        value = value.strip()
        if value[-1:] in ('Z', 'z'):   # RFC 3339 allows either case for UTC
            value = value[:-1] + '+00:00'
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 pushed out by its offset
        raise Invalid({name: ['Date invalide : utilisez AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS.']}) from None
    return parsed


class OneOf:
    """Exactly one of two fields must be sent (`seconds` or `minutes`…): put in a schema under any
    key starting with '_', it is checked after the fields and stated in the document."""
    read_only = False

    def __init__(self, first, second):
        self.first, self.second = first, second

    def check(self, data, errors):
        sent = [name for name in (self.first, self.second) if data.get(name) is not None]
        if len(sent) != 1:
            message = f'Indiquez soit « {self.first} », soit « {self.second}».'
            errors.setdefault(self.first, []).append(message)

    def openapi(self):
        return {'oneOf': [{'required': [self.first]}, {'required': [self.second]}]}


def schema_openapi(schema, *, partial=False):
    """An OpenAPI object schema for a validation schema (no field required when `partial`)."""
    fields = {name: field for name, field in schema.items() if not isinstance(field, OneOf)}
    result = {'type': 'object', 'properties': {name: field.openapi() for name, field in fields.items()},
              'additionalProperties': False}
    required = [] if partial else [name for name, field in fields.items() if field.required]
    if required:  # OpenAPI 3.0 (JSON Schema draft 5) forbids an empty `required` list
        result['required'] = required
    rules = [rule.openapi() for rule in schema.values() if isinstance(rule, OneOf)]
    if rules and not partial:
        result['allOf'] = rules
    return result


def body_required(schema, *, partial=False):
    """Whether the document says a body must be sent: only when a field or a rule needs one."""
    return not partial and any(isinstance(field, OneOf) or field.required for field in schema.values())
