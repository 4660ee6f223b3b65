"""Token counting with tiktoken's encodings, offline: `get_tokenizer(name)` is the entry point
(`tokenizer`), `chat_framing` counts whole chat requests, `bpe_files` reads the verified rank
files, `bridge` answers in pure Python until tiktoken's encoder is built."""
