from lurescan.cli import app

app()
