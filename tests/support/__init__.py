"""What every test tier shares: the gateway's environment, the sandbox handle, fakes and dead parts."""
