"""What a person reads: progress lines, the GitHub step summary and annotations, and the
logging set-up with its secret redaction."""
