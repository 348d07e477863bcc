"""Third-party verification of evidence by a workplace supervisor with no account."""
