"""Accounts, login, roles, and the one module that answers "may this user do this to that"."""
