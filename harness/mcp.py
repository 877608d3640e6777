"""What the MCP tests of every layer assert alike."""

# The tools issue 6 asks for, by name, and issue 24's task_cancel.
TOOLS = {
    "user_view",
    "transaction_view_all",
    "transaction_view",
    "task_view_all",
    "task_view",
    "task_cancel",
    "agent_supported_attachments",
    "agent_analysis",
    "stripe_rate",
    "stripe_buy",
}
