from collab_mcp_core.testing import connect


async def test_both_protocols_list_tools(collab_server):
    async with connect(collab_server) as session:
        tools = await session.list_tools()
        assert "word_count" in {t.name for t in tools.tools}
    async with connect(collab_server, modern=True) as client:
        tools = await client.list_tools()
        assert "word_count" in {t.name for t in tools.tools}
