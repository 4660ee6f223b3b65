"""A Realtime session's configuration: its defaults, `session.update`, and how the session
and response objects show it, in the GA shape or the beta's (`OpenAI-Beta: realtime=v1`).

GA keeps audio settings under `audio.input` / `audio.output` and says `output_modalities`
(`["audio"]` by default: spoken, with a transcript); the beta keeps them flat (`voice`,
`input_audio_format`...) and says `modalities` (`["text", "audio"]`).
"""

from __future__ import annotations

import copy
from typing import Any

from mockserver.protocols.openai import realtime_items as items
from mockserver.protocols.openai.validation import names

PCM = {"type": "audio/pcm", "rate": 24000}
TURN_DETECTION = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "create_response": True,
    "interrupt_response": True,
}
GA_FIELDS = names(
    "type audio include instructions max_output_tokens model output_modalities prompt "
    "tool_choice tools tracing truncation"
)
BETA_FIELDS = names(
    "model modalities instructions voice input_audio_format output_audio_format "
    "input_audio_transcription input_audio_noise_reduction turn_detection tools tool_choice "
    "temperature max_response_output_tokens speed tracing include client_secret"
)
MODALITIES = ("text", "audio")


class SessionConfig:
    """The settings `session.update` changes, as one dict in the version's own shape."""

    def __init__(self, model: str, beta: bool, settings: dict[str, Any]) -> None:
        self.model = model
        self.beta = beta
        self.settings = settings

    @classmethod
    def default(cls, model: str, beta: bool) -> SessionConfig:
        if beta:
            settings: dict[str, Any] = {
                "modalities": ["text", "audio"],
                "instructions": "",
                "voice": "alloy",
                "input_audio_format": "pcm16",
                "output_audio_format": "pcm16",
                "input_audio_transcription": None,
                "turn_detection": dict(TURN_DETECTION),
                "tools": [],
                "tool_choice": "auto",
                "temperature": 0.8,
                "max_response_output_tokens": "inf",
                "speed": 1.0,
                "tracing": None,
            }
        else:
            settings = {
                "output_modalities": ["audio"],
                "instructions": "",
                "tools": [],
                "tool_choice": "auto",
                "max_output_tokens": "inf",
                "tracing": None,
                "prompt": None,
                "audio": {
                    "input": {
                        "format": dict(PCM),
                        "transcription": None,
                        "noise_reduction": None,
                        "turn_detection": {**TURN_DETECTION, "idle_timeout_ms": None},
                    },
                    "output": {"format": dict(PCM), "voice": "alloy", "speed": 1.0},
                },
                "include": None,
            }
        return cls(model, beta, settings)

    def render(self, session_id: str, expires_at: int) -> dict[str, Any]:
        head: dict[str, Any] = {} if self.beta else {"type": "realtime"}
        head.update({"object": "realtime.session", "id": session_id, "model": self.model})
        return {**head, **copy.deepcopy(self.settings), "expires_at": expires_at}

    def update(self, session: dict[str, Any]) -> None:
        """Apply `session.update`'s fields, all checked before any is applied."""
        fields = BETA_FIELDS if self.beta else GA_FIELDS
        for name in session:
            if name not in fields:
                raise items.invalid(
                    f"Unknown parameter: 'session.{name}'.", f"session.{name}", "unknown_parameter"
                )
        if not self.beta:
            kind = session.get("type")
            if kind is None:
                raise items.missing("session.type")
            if kind != "realtime":
                raise items.invalid(
                    f"Invalid value: '{kind}'. Supported values are: 'realtime' and "
                    "'transcription'.",
                    "session.type",
                )
        key = "modalities" if self.beta else "output_modalities"
        _check_modalities(session.get(key), f"session.{key}")
        tools = items.tools_of(session.get("tools", self.settings["tools"]))
        items.tool_choice_of(session.get("tool_choice", self.settings["tool_choice"]), tools)
        limit_key = "max_response_output_tokens" if self.beta else "max_output_tokens"
        _check_limit(session.get(limit_key), f"session.{limit_key}")
        model = session.get("model")
        if isinstance(model, str) and model:
            self.model = model
        for name, value in session.items():
            if name in ("type", "model", "client_secret"):
                continue
            if name == "audio" and isinstance(value, dict):
                _merge(self.settings["audio"], value)
            else:
                self.settings[name] = copy.deepcopy(value)

    def voice(self) -> str:
        if self.beta:
            return str(self.settings.get("voice") or "alloy")
        return str(self.settings["audio"]["output"].get("voice") or "alloy")

    def for_response(self, options: dict[str, Any]) -> dict[str, Any]:
        """This response's settings: the session's, with what `response.create` overrides."""
        key = "modalities" if self.beta else "output_modalities"
        limit_key = "max_response_output_tokens" if self.beta else "max_output_tokens"
        modalities = options.get(key, self.settings[key])
        _check_modalities(modalities, f"response.{key}")
        limit = options.get(limit_key, self.settings[limit_key])
        _check_limit(limit, f"response.{limit_key}")
        voice = self.voice()
        if self.beta and isinstance(options.get("voice"), str):
            voice = options["voice"]
        if not self.beta:
            output = (options.get("audio") or {}).get("output") or {}
            if isinstance(output.get("voice"), str):
                voice = output["voice"]
        tools = options.get("tools", self.settings["tools"])
        tool_choice = options.get("tool_choice", self.settings["tool_choice"])
        items.tool_choice_of(tool_choice, items.tools_of(tools))
        return {
            "instructions": options.get("instructions", self.settings["instructions"]),
            "modalities": list(modalities),
            "voice": voice,
            "max_output_tokens": limit,
            "tools": tools,
            "tool_choice": tool_choice,
        }

    def response_body(
        self,
        response_id: str,
        conversation_id: str | None,
        modalities: list[str],
        voice: str,
        limit: int | str,
        metadata: Any,
    ) -> dict[str, Any]:
        """The `realtime.response` object before its status, output and usage."""
        body: dict[str, Any] = {
            "object": "realtime.response",
            "id": response_id,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": conversation_id,
        }
        if self.beta:
            body.update(
                {
                    "modalities": modalities,
                    "voice": voice,
                    "output_audio_format": self.settings["output_audio_format"],
                    "temperature": self.settings["temperature"],
                    "max_output_tokens": limit,
                }
            )
        else:
            output_format = self.settings["audio"]["output"].get("format") or PCM
            body.update(
                {
                    "output_modalities": modalities,
                    "max_output_tokens": limit,
                    "audio": {"output": {"format": output_format, "voice": voice}},
                }
            )
        body["usage"] = None
        body["metadata"] = metadata
        return body


def _check_modalities(value: Any, param: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not value or any(m not in MODALITIES for m in value):
        raise items.invalid(
            f"Invalid value: {value!r}. Supported values are: ['text'] and ['audio'].", param
        )


def _check_limit(value: Any, param: str) -> None:
    if value is None or value == "inf":
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
        raise items.invalid(
            f"Invalid '{param}': expected an integer between 1 and 4096, or 'inf'; got {value!r}.",
            param,
        )


def _merge(into: dict[str, Any], changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = copy.deepcopy(value)
