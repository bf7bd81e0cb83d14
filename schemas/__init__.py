"""Helpers the document types share (`common`: money, dates, currencies, rule violations).

Each type's draft and record models and its rules live in its package,
`pipeline/doctypes/<type>/schema.py`.
"""
