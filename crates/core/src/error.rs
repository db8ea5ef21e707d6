//! The one error type of `vitrine-core`.

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `vitrine-core`.
///
/// Each variant carries what a caller needs to act: the key of a bad tensor, the shape that was
/// expected, the setting that cannot work. Messages are lowercase and say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model configuration cannot describe a model this crate can run.
    #[error("invalid model config: {0}")]
    Config(String),

    /// The weight bytes are not a readable safetensors file.
    #[error(
        "weights are not a valid safetensors file ({reason}); re-fetch them with \
         `cargo xtask setup`"
    )]
    WeightsFormat {
        /// What the parser found wrong.
        reason: String,
    },

    /// The bytes are safetensors but not a usable Vitrine model file of the kind asked for.
    #[error("model file refused: {0}")]
    ModelFile(String),

    /// A model file's content does not match the checksum in its metadata.
    #[error(
        "model file is corrupted: its checksum says {expected} but its content hashes to \
         {actual}; download or export it again"
    )]
    Checksum {
        /// The checksum recorded in the file.
        expected: String,
        /// The checksum of what was read.
        actual: String,
    },

    /// The weight bytes end before the data of one tensor does.
    #[error(
        "weights are truncated: tensor `{key}` needs bytes up to {needed} but the file holds \
         {available}; re-fetch them with `cargo xtask setup`"
    )]
    Truncated {
        /// The first tensor whose data lies past the end.
        key: String,
        /// The data length the header promises.
        needed: usize,
        /// The data length present.
        available: usize,
    },

    /// A tensor the model needs is absent.
    #[error("weights lack tensor `{key}`: they do not belong to this model")]
    MissingKey {
        /// The Hugging Face name of the tensor.
        key: String,
    },

    /// The file holds a tensor the model does not know.
    #[error("weights hold unexpected tensor `{key}`: they do not belong to this model")]
    UnexpectedKey {
        /// The Hugging Face name of the tensor.
        key: String,
    },

    /// A tensor has another shape than the configuration implies.
    #[error("tensor `{key}` has shape {actual:?}, the config expects {expected:?}")]
    Shape {
        /// The Hugging Face name of the tensor.
        key: String,
        /// The shape the configuration implies.
        expected: Vec<usize>,
        /// The shape in the file.
        actual: Vec<usize>,
    },

    /// A tensor is stored in a type this loader does not take.
    #[error("tensor `{key}` is stored as {actual}, expected {expected}")]
    Dtype {
        /// The Hugging Face name of the tensor.
        key: String,
        /// The type this loader takes.
        expected: String,
        /// The type in the file.
        actual: String,
    },

    /// The tokenizer file cannot be read or cannot encode the text.
    #[error("tokenizer: {0}")]
    Tokenizer(String),

    /// The window length and stride for long texts cannot work together.
    #[error("invalid window settings: {0}")]
    Window(String),

    /// A data file holds something it should not.
    #[error("{file}, {place}: {message}")]
    Data {
        /// The file, as the caller named it.
        file: String,
        /// Where in the file: a line, or an example for JSON.
        place: String,
        /// What is wrong.
        message: String,
    },

    /// A batch cannot be built from the given encodings.
    #[error("invalid input: {0}")]
    Input(String),

    /// Reading a tensor back from the device failed.
    #[error("reading results back from the device failed: {0}")]
    Readback(String),

    /// The requested compute device is not available.
    #[error("device unavailable: {0}")]
    Device(String),
}
