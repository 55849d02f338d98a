"""knowledge/fixes"""
