"""Account logic, one module per concern: registration, sign-in (password, 2FA, Google), sessions, one-time codes,
activation, the profile, and the admin's user operations. Handlers import the module they call (nothing is imported
here, so a function loads only what its routes use); these call clara.store.

Every change is one DynamoDB transaction with its audit item, so nothing is half-done and every security event
is recorded. Emails go out after the change is stored.
"""
