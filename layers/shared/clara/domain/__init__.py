"""The product's rules on plain values: accounts, credits, analysis. It raises contract errors and calls clara.store;
it knows no HTTP event and no DynamoDB request."""
