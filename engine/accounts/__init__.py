"""Staff accounts: passwords, sign-in throttling, sessions, the demo data, and Admin Pusat's administration of units and users."""
