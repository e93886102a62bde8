"""The six GPT enrichment flows of an Instagram account (the seed's names). Each reads the
stored profile (bio, name, newest captions, their comments where the prompt uses them), asks
the chat model with its prompt's newest version (or the one asked for), validates the answer
against the prompt's schema and stores it with the prompt name + version, model, tokens and
cost, and an event. Sizing is the seed's: 2 processes x 5 tasks each."""

from typing import Any

from pydantic import Field

from core.errors import BadParams
from core.flows import StrictParams, TaskContext, flow
from enrichment import chat
from enrichment.profile import PLATFORM, read_profile
from enrichment.prompts import PromptError, pick
from enrichment.settings import EnrichmentSettings
from enrichment.store import save_result

API_PLATFORM = "ENRICHMENT"
RUN = {"platform": API_PLATFORM, "processes": 2, "concurrency": 5, "max_attempts": 3,
       "timeout_s": 180}
# Flow -> (aspect, prompt name).
ASPECTS = {
    "refresh_instagram_gpt_data_base_gender": ("base_gender", "instagram_base_gender"),
    "refresh_instagram_gpt_data_base_location": ("base_location", "instagram_base_location"),
    "refresh_instagram_gpt_data_base_categ_lang_topics":
        ("base_categ_lang_topics", "instagram_base_categ_lang_topics"),
    "refresh_instagram_gpt_data_audience_age_gender":
        ("audience_age_gender", "instagram_audience_age_gender"),
    "refresh_instagram_gpt_data_audience_cities":
        ("audience_cities", "instagram_audience_cities"),
    "refresh_instagram_gpt_data_gender_location_lang":
        ("gender_location_lang", "instagram_gender_location_lang"),
}


class EnrichParams(StrictParams):
    """A stored Instagram account by handle; `prompt_version` re-runs an older version of the
    flow's prompt (default: the newest)."""

    handle: str = Field(pattern=r"^@?[A-Za-z0-9._]{1,30}$")
    prompt_version: str | None = Field(default=None, pattern=r"^[0-9]+(\.[0-9]+){0,3}$")


async def enrich(flow_name: str, params: EnrichParams, ctx: TaskContext) -> dict[str, Any]:
    aspect, prompt_name = ASPECTS[flow_name]
    own = EnrichmentSettings.of(ctx.settings)
    try:
        prompt = pick(prompt_name, own.enrichment_prompt_dirs, params.prompt_version)
    except PromptError as exc:
        raise BadParams(str(exc)) from None
    profile = await read_profile(ctx.pool, ctx.settings, params.handle.lstrip("@"),
                                 own.enrichment_recent_posts, own.enrichment_comments)
    answer = await chat.ask(chat.director(ctx.settings), prompt, prompt.render(profile.values()))
    row = {"platform": PLATFORM, "profile_id": profile.profile_id, "handle": profile.handle,
           "aspect": aspect, "flow": flow_name, "prompt_name": prompt.name,
           "prompt_version": prompt.version, "model": answer.model, "result": answer.value,
           "tokens_in": answer.tokens_in, "tokens_out": answer.tokens_out,
           "cost_usd": own.cost_usd(answer.tokens_in, answer.tokens_out),
           "calls": answer.calls, "task_id": ctx.task_id}
    saved = await save_result(ctx.pool, row)
    return {**{k: row[k] for k in ("profile_id", "handle", "aspect", "prompt_name",
                                   "prompt_version", "model", "result", "tokens_in",
                                   "tokens_out", "cost_usd", "calls")},
            **saved, "invalid_answers": answer.errors}


def _register(name: str, purpose: str) -> None:
    async def handler(params: EnrichParams, ctx: TaskContext) -> dict[str, Any]:
        return await enrich(name, params, ctx)

    handler.__doc__ = purpose
    flow(name, EnrichParams, description=purpose, **RUN)(handler)


for _name, _purpose in (
        ("refresh_instagram_gpt_data_base_gender", "the account holder's gender"),
        ("refresh_instagram_gpt_data_base_location", "the account's country and city"),
        ("refresh_instagram_gpt_data_base_categ_lang_topics",
         "the account's category, languages and topics"),
        ("refresh_instagram_gpt_data_audience_age_gender",
         "its audience by age group and gender"),
        ("refresh_instagram_gpt_data_audience_cities", "its audience's cities"),
        ("refresh_instagram_gpt_data_gender_location_lang",
         "gender, location and language in one answer")):
    _register(_name, _purpose)
