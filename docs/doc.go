// Package docs is the project's documentation: the README's companions in
// Markdown (the design, the package contracts, one page per system). It has
// no code; its test keeps the Markdown honest, failing on a duplicated
// heading, a placeholder left unfilled, or a link or design-document
// reference that does not resolve inside the repository.
package docs
