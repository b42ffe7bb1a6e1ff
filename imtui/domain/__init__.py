"""Pure business rules: editions, prices, package changes, status lifecycle and billing.

Nothing here does I/O, reads the clock or imports Textual or SQL; every function takes `now`
(and the billing time zone) as arguments.
"""
