"""Contract suites for the AskElephant API and for vendor webhook receivers, written from the spec."""
