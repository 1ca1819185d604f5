"""What several test modules share: certificates, stores, the CLI runners, GUI helpers
and keyrings. Test modules import from here, never from each other."""
