"""What the MCP tests of every layer assert alike."""

# The tools issue 6 asks for, by name.
TOOLS = {
    "user_view",
    "transaction_view_all",
    "transaction_view",
    "task_view_all",
    "task_view",
    "agent_supported_attachments",
    "agent_analysis",
    "stripe_rate",
    "stripe_buy",
}
