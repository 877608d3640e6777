"""What the API promises its clients: the error catalogue and the request bodies."""
