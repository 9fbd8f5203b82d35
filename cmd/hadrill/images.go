package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/systems/registry"
)

func init() { subcommands = append(subcommands, newImagesCmd) }

// imageRecipes are the images `hadrill images` builds after the Debian base:
// every registered system's, by name.
func imageRecipes() map[string]func(context.Context) (image.Spec, error) {
	m := map[string]func(context.Context) (image.Spec, error){}
	for _, s := range registry.All() {
		m[s.Name()] = s.Image
	}
	return m
}

func newImagesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "images [SYSTEM...]",
		Short: "Build the Debian base image and the systems' images now, before any run (make images)",
		Long: "Build the shared Debian base image (debootstrap; needs root) and the image of each\n" +
			"named system, or of every system when none is named. Images already built are found\n" +
			"by content and reused.\n\n" +
			"Exit codes: 0 every image is built, 2 an unknown system, 3 a build failed or no\n" +
			"Docker engine, 130 interrupted.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !slog.Default().Enabled(ctx, slog.LevelInfo) {
				// Building takes minutes: show the build lines.
				slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
			}
			recipes := imageRecipes()
			names := args
			if len(names) == 0 {
				names = registry.Names()
			}
			for _, n := range names {
				if recipes[n] == nil {
					return badInput(fmt.Errorf("no system %q (known: %v)", n, registry.Names()))
				}
			}
			if err := engine.Available(ctx); err != nil {
				return err
			}
			base, err := image.EnsureDebianBase(ctx)
			if err != nil {
				return err
			}
			printImage(base)
			// The layers share only the base, which exists now: build them
			// at once (apt downloads and unpacks overlap), so CI waits for the
			// slowest layer rather than for their sum.
			var mu sync.Mutex
			errs := make([]error, len(names))
			var wg sync.WaitGroup
			for i, n := range names {
				wg.Go(func() {
					spec, err := recipes[n](ctx)
					if err != nil {
						errs[i] = fmt.Errorf("get %s image: %w", n, err)
						return
					}
					img, err := image.Ensure(ctx, spec)
					if err != nil {
						errs[i] = err
						return
					}
					mu.Lock()
					printImage(img)
					mu.Unlock()
				})
			}
			wg.Wait()
			return errors.Join(errs...)
		},
	}
}

// printImage prints one line per image on stdout: what it is and whether it
// was built now.
func printImage(img image.Image) {
	how := "found"
	if img.Built {
		how = "built"
	}
	fmt.Fprintf(os.Stdout, "%s %s in %v\n", img.Ref, how, img.Took.Round(time.Millisecond))
}
