"""Byte-level codecs for the SQL Server wire protocols (SSRP, TDS, PRELOGIN, LOGIN7, tokens, TLS).

Shared by the probes (client side) and the lab (server side). The lowest layer beside
`tui.target`: no Textual, no probes. Parsers are pure and synchronous and raise only `WireError`;
the async parts (`tds.read_message`, `tlsbridge`) take a timeout.
"""
