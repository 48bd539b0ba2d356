"""What each CLI command does, one function each; cli.py only parses options."""
