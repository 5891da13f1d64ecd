"""Backups a librarian can trust (docs/backup.md).

- tables:   what is saved, and how each value is written so it reads back the same on either engine
- snapshot: one consistent read of the live database, on its own connection (SQLite or PostgreSQL)
- crypto:   the encrypted envelope (scrypt + AES-256-GCM from `cryptography`)
- archive:  the file itself: writing, and verifying every byte of it
- store:    the folders (BACKUP_DIR, the USB stick): names, listing, copies, rotation
- service:  one backup now, off the event loop, with its audit entry; health's "backup" field
- restore:  an archive back into the database, in one transaction, migrated forward if older
"""
