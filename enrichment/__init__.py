"""GPT enrichment of stored Instagram accounts: versioned prompts, an OpenAI-compatible chat
model (the `openai` SDK), answers validated against each prompt's schema, results stored with
their prompt version, tokens and cost. Registered with Beat like a platform (flows, settings,
its source's limits, the `enrichment` include of the profile endpoints and the category and
language labels the leaderboards read), so core never names it; it reads Instagram through
the registry, never by importing the platform."""

from core.platforms import Platform
from enrichment.settings import SOURCE, EnrichmentSettings

PLATFORM = Platform(
    name="enrichment",
    flows="enrichment.flows",
    settings=EnrichmentSettings,
    # Requests a minute of a first-tier OpenAI account; SOURCE_LIMITS replaces it.
    source_limits={SOURCE: ["500/min"]},
    profile_includes={"enrichment": "enrichment.store:profile_enrichment"},
    listeners="enrichment.sentiment:LISTENERS",
    profile_labels="enrichment.store:LABELS",
    description="GPT enrichment of Instagram accounts through an OpenAI-compatible chat "
                "model: gender, location, category, languages, topics, audience",
)
