"""One module per area; each public function is one user operation:
permission check → transaction → audit event. The GUI and the CLI call only these."""
