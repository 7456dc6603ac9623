"""Scalar types for schema annotations, the same names as ``fraiseql.scalars`` (SDK 2.18).

Each scalar is a ``typing.NewType`` so annotations stay ordinary Python types. The GraphQL name
is the NewType's name; the SQL type a scalar maps to is decided in ``fraisec.ir.scalars``.
A NewType that is not listed here is a custom scalar (as in the SDK).
"""

from __future__ import annotations

from typing import NewType

ID = NewType("ID", str)
UUID = NewType("UUID", str)
DateTime = NewType("DateTime", str)
Date = NewType("Date", str)
Time = NewType("Time", str)
DateRange = NewType("DateRange", str)
Duration = NewType("Duration", str)
Json = NewType("Json", object)
JSON = Json
Decimal = NewType("Decimal", str)
Vector = NewType("Vector", list)
Email = NewType("Email", str)
PhoneNumber = NewType("PhoneNumber", str)
URL = NewType("URL", str)
DomainName = NewType("DomainName", str)
Hostname = NewType("Hostname", str)
PostalCode = NewType("PostalCode", str)
Latitude = NewType("Latitude", float)
Longitude = NewType("Longitude", float)
Timezone = NewType("Timezone", str)
LocaleCode = NewType("LocaleCode", str)
LanguageCode = NewType("LanguageCode", str)
CountryCode = NewType("CountryCode", str)
CurrencyCode = NewType("CurrencyCode", str)
Money = NewType("Money", str)
Percentage = NewType("Percentage", float)
Slug = NewType("Slug", str)
SemanticVersion = NewType("SemanticVersion", str)
IPAddress = NewType("IPAddress", str)
IPv4 = NewType("IPv4", str)
IPv6 = NewType("IPv6", str)
MACAddress = NewType("MACAddress", str)
CIDR = NewType("CIDR", str)
Port = NewType("Port", int)
Markdown = NewType("Markdown", str)
HTML = NewType("HTML", str)
MimeType = NewType("MimeType", str)
Color = NewType("Color", str)
LTree = NewType("LTree", str)

__all__ = [name for name, value in list(globals().items()) if hasattr(value, "__supertype__")]
