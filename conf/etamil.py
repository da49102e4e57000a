"""gunicorn configuration for eTamil programs:

    ETAMIL_PROGRAM=ledger.qmz gunicorn -c conf/etamil.py

Everything comes from ETAMIL_* environment variables (etamil_server/config.py documents each);
gunicorn's own command-line flags still win (``-w 4``, ``-b 0.0.0.0:80``, ``--graceful-timeout``).
The program is compiled here in the master, before any fork; database pools and VM pools are
created in each worker after it (workers/etamil_worker.py).
"""

from workers.hooks import gunicorn_settings, settings_or_exit

globals().update(gunicorn_settings(settings_or_exit()))
