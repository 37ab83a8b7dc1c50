"""E-mail: judges' invitations with their sign-in link, and team members' feedback and certificate
notices, through an outbox table that a separate worker delivers (SMTP, or .eml files in development).

messages.py builds a message when it is sent (links are never stored), operations.py queues,
worker.py delivers, status.py reads the outbox for the pages and the CLI, views.py is the
organisers' Mail page, cli.py the `expo mail` commands.
"""
