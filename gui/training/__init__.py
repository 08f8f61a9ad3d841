"""Training in a child process: the controller (GUI side), the process (no Qt) and what it loads."""
