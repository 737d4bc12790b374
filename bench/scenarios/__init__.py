"""The scenarios, each `async def run(ctx) -> dict` returning its part of results.json."""
