// `import PodKV` gives the whole library API: models, caches and policies, tokenizers, GGUF files.
@_exported import PodKVCache
@_exported import PodKVGGUF
@_exported import PodKVModel
@_exported import PodKVTokenizer
