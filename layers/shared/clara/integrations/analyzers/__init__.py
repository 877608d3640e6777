"""The analyzers: text and attachments in, the result of clara.domain.analysis.results out (the interface is
clara.domain.analysis.ports.Analyzer).

Two implementations, chosen by ANALYZER: `bedrock` (Amazon Bedrock, in the deployed stack) and `local` (real
work without a model, the local runtime's default). Each is imported only when chosen.
"""

from clara.domain.analysis.ports import Analyzer
from clara.settings import get_settings


def analyzer_for_settings() -> Analyzer:
    if get_settings().analyzer == "bedrock":
        from clara.integrations.analyzers.bedrock import BedrockAnalyzer

        return BedrockAnalyzer()
    from clara.integrations.analyzers.local import LocalAnalyzer

    return LocalAnalyzer()
