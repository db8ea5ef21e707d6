//! Static constructors, run once.
//!
//! Some dependencies register themselves before `main` through link-time constructors (the
//! GPU compiler's IR dialects, through `inventory`). wasm-ld collects those into
//! `__wasm_call_ctors`, and unless the program calls that function itself it wraps *every*
//! exported function with a call to it: each call from JavaScript into the module, down to
//! wasm-bindgen's own table helpers, ran every constructor again, which cost about 100 ms per
//! recommendation in Chromium. Calling it here, once, makes the linker leave the exports as
//! they are. Every entry point that builds an engine object calls
//! [`run_static_constructors`] first, and the app calls it at the top of `main`.

/// Runs the program's static constructors the first time it is called, and does nothing
/// after that. Cheap to call from every entry point.
pub fn run_static_constructors() {
    #[cfg(target_arch = "wasm32")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(call_ctors);
    }
}

#[cfg(target_arch = "wasm32")]
#[expect(
    unsafe_code,
    reason = "the linker's constructor function has no safe binding"
)]
fn call_ctors() {
    unsafe extern "C" {
        /// Synthesised by wasm-ld: runs each static constructor of the program in order.
        fn __wasm_call_ctors();
    }
    // SAFETY: the function takes nothing and returns nothing; the `Once` above makes sure the
    // constructors run exactly once, before any engine object exists, as they expect.
    unsafe { __wasm_call_ctors() }
}
