"""The one home of DynamoDB: the item types and their keys (items), the table and its attribute types (table),
units of work (unit), and the reads and writes the domain asks for, by subject (users, credentials, counters,
transactions, tasks). Nothing outside this package imports PynamoDB or botocore's DynamoDB client, writes a key
or names an index: tests/unit/test_store_boundary.py checks it."""
