"""Local stack: the Firestore emulator, the sandbox broker and the gateway as real processes."""
