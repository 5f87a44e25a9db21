"""The order path: the request and its rules, the record and its store, the desk, outcomes, exits."""
