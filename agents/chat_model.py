"""Build the LLM director's chat model from a `provider:model` spec.

Hosted and server models go through LangChain's `init_chat_model` ("openai:gpt-4.1-mini",
"anthropic:claude-sonnet-4-5", "ollama:llama3.1", any OpenAI-compatible server via `base_url`);
"huggingface:<path or repo>" runs a local transformers model. Provider packages are optional
extras, imported only here and only when asked for.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from studio.errors import SlateError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

DEFAULT_TEMPERATURE = 0.3
DEFAULT_TIMEOUT = 60.0
MAX_NEW_TOKENS = 1024  # local models only; hosted providers use their own defaults

# provider → the Slate extra that installs its LangChain package.
_EXTRAS = {
    "openai": "openai",
    "azure_openai": "openai",
    "anthropic": "anthropic",
    "ollama": "ollama",
    "huggingface": "huggingface",
}
# Providers whose client retries on its own (openai and anthropic: twice, by default). Slate asks
# once: `SLATE_LLM_TIMEOUT_S` is the whole wait the crew sees, and a failure is reported at once
# rather than retried in silence. The LLM director's own turn timeout bounds every other provider.
_CLIENT_RETRIES = frozenset({"openai", "azure_openai", "anthropic"})
_SPEC = re.compile(r"^(?P<provider>[A-Za-z][A-Za-z0-9_-]*):(?P<model>\S.*)$")


class ModelSetupError(SlateError):
    """The chat model cannot be built from this spec (malformed, unknown provider, missing package)."""


def make_chat_model(
    spec: str,
    *,
    temperature: float = DEFAULT_TEMPERATURE,
    api_key: SecretStr | None = None,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> BaseChatModel:
    """A LangChain chat model for `spec` ("provider:model"); raise `ModelSetupError` if it can't be built."""
    match = _SPEC.match(spec.strip())
    if match is None:
        raise ModelSetupError(
            f"'{spec}' is not a model spec: write provider:model, e.g. 'openai:gpt-4.1-mini' or "
            "'ollama:llama3.1'."
        )
    provider = match["provider"].lower().replace("-", "_")
    model = match["model"].strip()
    if provider == "huggingface":
        return _local_huggingface(model, temperature=temperature)

    kwargs: dict[str, Any] = {"temperature": temperature}
    if provider == "ollama":
        kwargs["client_kwargs"] = {"timeout": timeout}  # ChatOllama has no `timeout` field
    else:
        kwargs["timeout"] = timeout
    if provider in _CLIENT_RETRIES:
        kwargs["max_retries"] = 0
    if api_key is not None:
        kwargs["api_key"] = api_key  # passed as SecretStr, so the model's repr masks it
    if base_url is not None:
        kwargs["base_url"] = base_url

    from langchain.chat_models import init_chat_model

    try:
        chat: BaseChatModel = init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError:
        raise _missing_package(provider) from None
    except ValueError as error:
        # `from None` everywhere: the provider's message may quote the arguments it was given.
        if "provider" in str(error).lower():
            raise ModelSetupError(
                f"I don't know the model provider '{provider}'. Try openai, anthropic, ollama or "
                "huggingface (or an OpenAI-compatible server: openai:<model> with a base URL)."
            ) from None
        raise _setup_failed(spec, error) from None
    except Exception as error:  # provider clients fail in their own ways (e.g. no API key set)
        raise _setup_failed(spec, error) from None
    return chat


def _local_huggingface(model: str, *, temperature: float) -> BaseChatModel:
    try:
        from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
    except ImportError:
        raise _missing_package("huggingface") from None
    sampling: dict[str, Any] = (
        {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    )
    try:
        pipeline = HuggingFacePipeline.from_model_id(
            model_id=model,
            task="text-generation",
            pipeline_kwargs={
                "max_new_tokens": MAX_NEW_TOKENS,
                "return_full_text": False,
                **sampling,
            },
        )
    except Exception as error:  # a missing path or repo, or weights transformers can't load
        raise _setup_failed(f"huggingface:{model}", error) from None
    chat: BaseChatModel = ChatHuggingFace(llm=pipeline)  # typed here: the extra may be absent
    return chat


def _missing_package(provider: str) -> ModelSetupError:
    extra = _EXTRAS.get(provider)
    # Slate's own extra, installed from its checkout ("slate" on PyPI is another project).
    hint = f"pip install -e '.[{extra}]'" if extra else f"install LangChain's {provider} package"
    return ModelSetupError(f"The {provider} chat models need an extra package: {hint}.")


def _setup_failed(spec: str, error: Exception) -> ModelSetupError:
    # Only the exception type is shown or logged: messages can quote credentials.
    logger.info("could not build chat model %s: %s", spec, type(error).__name__)
    return ModelSetupError(
        f"I couldn't set up the model '{spec}' ({type(error).__name__}): check the model name, "
        "its API key and base URL."
    )
