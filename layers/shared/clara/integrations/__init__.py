"""The services Clara calls beyond its table: email, Google sign-in, link fetching, the analyzers."""
