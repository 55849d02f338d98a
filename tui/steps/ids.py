"""The step ids: the transcript keeps them, `check` answers questions by them, a step reads
another's answer by them. Defined here so the steps and the tree share one spelling."""

from __future__ import annotations

from enum import StrEnum


class S(StrEnum):
    """The step ids: the transcript keeps them, `check` answers questions by them."""

    TARGET = "target"
    ERROR = "error"
    ON_SERVER = "on-server"
    SERVER_CONFIG = "server-config"
    DNS = "dns"
    BROWSER = "browser"
    TCP = "tcp"
    SEARCH = "search"
    PRELOGIN = "prelogin"
    CLIENT = "client"
    TLS = "tls"
    LOGIN_WANTED = "login-wanted"
    LOGIN = "login"
