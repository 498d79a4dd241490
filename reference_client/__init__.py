"""Reference AskElephant dialer integration: typed client, webhook receiver, WAVV mapping."""
