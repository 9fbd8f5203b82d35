// Package docs is the project's documentation: the README's companions in
// Markdown (the design, the package contracts, one page per system). It has
// no code; its tests hold the documents to the repository: the Markdown
// (no duplicated heading, no unfilled placeholder, every link and
// design-document reference resolving inside the repository) and the code
// to the design (imports follow DESIGN.md's floors, files and packages stay
// within their sizes).
package docs
