//! The AI-provider registry: names, display names, modalities, legacy environment variables
//! and where each provider lists its models.
//!
//! This module is pure data plus the "configured from the environment" rule of the original
//! (a variable counts only when it is non-blank after trimming). It never reads the process
//! environment itself: callers pass a lookup, so tests and handlers decide where values come
//! from. The order of [`PROVIDERS`] is the display order clients render.

/// The four model types, in the original's order.
pub const MODEL_TYPES: [&str; 4] = ["language", "embedding", "text_to_speech", "speech_to_text"];

const ALL: &[&str] = &MODEL_TYPES;
const LANGUAGE: &[&str] = &["language"];

/// Everything the server knows about one provider.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSpec {
    /// The lower-case name used in requests and records.
    pub name: &'static str,
    pub display_name: &'static str,
    /// Model types offered by default for a new credential.
    pub modalities: &'static [&'static str],
    /// All of these must be set for the provider to count as configured by the environment.
    pub required_env: &'static [&'static str],
    /// At least one of these must be set (when non-empty).
    pub required_any_env: &'static [&'static str],
    /// Where a user gets a key or sets the provider up.
    pub docs_url: Option<&'static str>,
    /// The provider's OpenAI-compatible model list, used when a credential has no base URL.
    pub models_url: Option<&'static str>,
}

const fn spec(
    name: &'static str,
    display_name: &'static str,
    modalities: &'static [&'static str],
    required_env: &'static [&'static str],
) -> ProviderSpec {
    ProviderSpec {
        name,
        display_name,
        modalities,
        required_env,
        required_any_env: &[],
        docs_url: None,
        models_url: None,
    }
}

impl ProviderSpec {
    const fn docs(mut self, url: &'static str) -> Self {
        self.docs_url = Some(url);
        self
    }

    const fn models(mut self, url: &'static str) -> Self {
        self.models_url = Some(url);
        self
    }

    const fn any_of(mut self, vars: &'static [&'static str]) -> Self {
        self.required_any_env = vars;
        self
    }

    /// Whether the legacy environment variables configure this provider.
    pub fn env_configured(&self, env: &dyn Fn(&str) -> Option<String>) -> bool {
        let set = |name: &&str| env(name).is_some_and(|v| !v.trim().is_empty());
        if !self.required_any_env.is_empty() {
            return self.required_any_env.iter().any(set);
        }
        !self.required_env.is_empty() && self.required_env.iter().all(set)
    }
}

/// Every supported provider, in display order.
pub const PROVIDERS: &[ProviderSpec] = &[
    spec("openai", "OpenAI", ALL, &["OPENAI_API_KEY"])
        .docs("https://platform.openai.com/api-keys")
        .models("https://api.openai.com/v1/models"),
    spec("anthropic", "Anthropic", LANGUAGE, &["ANTHROPIC_API_KEY"])
        .docs("https://console.anthropic.com/settings/keys"),
    spec("google", "Google AI", ALL, &[])
        .any_of(&["GOOGLE_API_KEY", "GEMINI_API_KEY"])
        .docs("https://aistudio.google.com/app/apikey"),
    spec("groq", "Groq", &["language", "speech_to_text"], &["GROQ_API_KEY"])
        .docs("https://console.groq.com/keys")
        .models("https://api.groq.com/openai/v1/models"),
    spec("mistral", "Mistral AI", ALL, &["MISTRAL_API_KEY"])
        .docs("https://console.mistral.ai/api-keys/")
        .models("https://api.mistral.ai/v1/models"),
    spec("deepseek", "DeepSeek", LANGUAGE, &["DEEPSEEK_API_KEY"])
        .docs("https://platform.deepseek.com/api_keys")
        .models("https://api.deepseek.com/models"),
    spec("xai", "xAI (Grok)", &["language", "text_to_speech"], &["XAI_API_KEY"])
        .docs("https://console.x.ai/")
        .models("https://api.x.ai/v1/models"),
    spec("openrouter", "OpenRouter", &["language", "embedding"], &["OPENROUTER_API_KEY"])
        .docs("https://openrouter.ai/keys")
        .models("https://openrouter.ai/api/v1/models"),
    spec("dashscope", "DashScope (Qwen)", LANGUAGE, &["DASHSCOPE_API_KEY"])
        .models("https://dashscope.aliyuncs.com/compatible-mode/v1/models"),
    spec("minimax", "MiniMax", LANGUAGE, &["MINIMAX_API_KEY"])
        .models("https://api.minimax.io/v1/models"),
    spec("novita", "Novita AI", LANGUAGE, &["NOVITA_API_KEY"]),
    spec("ppq", "PPQ", LANGUAGE, &["PPQ_API_KEY"]),
    spec("cohere", "Cohere", &["language", "embedding"], &["COHERE_API_KEY"])
        .docs("https://dashboard.cohere.com/api-keys"),
    spec("voyage", "Voyage AI", &["embedding"], &["VOYAGE_API_KEY"])
        .docs("https://dash.voyageai.com/api-keys"),
    spec(
        "elevenlabs",
        "ElevenLabs",
        &["text_to_speech", "speech_to_text"],
        &["ELEVENLABS_API_KEY"],
    )
    .docs("https://elevenlabs.io/app/settings/api-keys"),
    spec("deepgram", "Deepgram", &["text_to_speech"], &["DEEPGRAM_API_KEY"])
        .docs("https://console.deepgram.com/"),
    spec("ollama", "Ollama", &["language", "embedding"], &["OLLAMA_API_BASE"]),
    spec("omlx", "oMLX", &["language", "embedding"], &["OMLX_API_BASE"]),
    spec(
        "azure",
        "Azure OpenAI",
        ALL,
        &["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_VERSION"],
    ),
    spec(
        "vertex",
        "Google Vertex AI",
        &["language", "embedding", "text_to_speech"],
        &["VERTEX_PROJECT", "VERTEX_LOCATION"],
    ),
    spec("openai_compatible", "OpenAI Compatible", ALL, &[])
        .any_of(&["OPENAI_COMPATIBLE_BASE_URL", "OPENAI_COMPATIBLE_API_KEY"]),
    spec(
        "anthropic_compatible",
        "Anthropic Compatible",
        LANGUAGE,
        &["ANTHROPIC_COMPATIBLE_BASE_URL", "ANTHROPIC_COMPATIBLE_API_KEY"],
    ),
];

/// The provider named `name` (exact, lower-case).
pub fn find(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().find(|p| p.name == name)
}

/// The process environment as a lookup, for handlers.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn names_are_unique_and_lower_case() {
        for (i, p) in PROVIDERS.iter().enumerate() {
            assert_eq!(p.name, p.name.to_lowercase());
            assert!(PROVIDERS[i + 1..].iter().all(|q| q.name != p.name), "{}", p.name);
        }
        assert_eq!(PROVIDERS.len(), 22);
    }

    #[test]
    fn env_rules_follow_the_original() {
        let azure = find("azure").unwrap();
        let partial = env_of(&[("AZURE_OPENAI_API_KEY", "k"), ("AZURE_OPENAI_ENDPOINT", "e")]);
        assert!(!azure.env_configured(&partial));
        let google = find("google").unwrap();
        assert!(google.env_configured(&env_of(&[("GEMINI_API_KEY", "k")])));
        assert!(!google.env_configured(&env_of(&[("GOOGLE_API_KEY", "   ")])));
        assert!(find("openai").unwrap().env_configured(&env_of(&[("OPENAI_API_KEY", "sk")])));
    }
}
