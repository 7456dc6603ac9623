"""Scalar vocabulary: Python/FraiseQL scalar → GraphQL name and PostgreSQL column type."""

from __future__ import annotations

import datetime
import decimal
import uuid

__all__ = ["BUILTIN_SCALARS", "SQL_TYPES", "sql_type_for"]

# Python builtins accepted in annotations → GraphQL scalar name (the SDK's mapping).
BUILTIN_SCALARS: dict[object, str] = {
    str: "String",
    int: "Int",
    float: "Float",
    bool: "Boolean",
    uuid.UUID: "UUID",
    datetime.datetime: "DateTime",
    datetime.date: "Date",
    datetime.time: "Time",
    decimal.Decimal: "Decimal",
    dict: "Json",
}

# GraphQL scalar → PostgreSQL type for entity columns. Unlisted (custom) scalars are text.
SQL_TYPES: dict[str, str] = {
    "String": "text",
    "Int": "integer",
    "Float": "double precision",
    "Boolean": "boolean",
    "ID": "uuid",
    "UUID": "uuid",
    "DateTime": "timestamp with time zone",
    "Date": "date",
    "Time": "time without time zone",
    "Json": "jsonb",
    "Decimal": "numeric",
    "Money": "numeric",
    "Latitude": "double precision",
    "Longitude": "double precision",
    "Percentage": "double precision",
    "Port": "integer",
    "IPAddress": "inet",
    "IPv4": "inet",
    "IPv6": "inet",
    "CIDR": "cidr",
    "MACAddress": "macaddr",
}


def sql_type_for(graphql_scalar: str) -> str:
    return SQL_TYPES.get(graphql_scalar, "text")
