package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/cluster"
)

func init() { subcommands = append(subcommands, newImagesCmd) }

// imageRecipes are the images `hadrill images` builds after the Debian base,
// by system name. It is the hook the systems registry fills (one line per
// system, or one loop over the registry), so that this file names no system.
var imageRecipes = map[string]func(context.Context) (cluster.ImageSpec, error){}

func newImagesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "images [SYSTEM...]",
		Short: "Build the Debian base image and the systems' images now, before any run (make images)",
		Long: "Build the shared Debian base image (debootstrap; needs root) and the image of each\n" +
			"named system, or of every system when none is named. Images already built are found\n" +
			"by content and reused.",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !slog.Default().Enabled(ctx, slog.LevelInfo) {
				// Building takes minutes: show the build lines.
				slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
			}
			names := args
			if len(names) == 0 {
				names = slices.Sorted(maps.Keys(imageRecipes))
			}
			for _, n := range names {
				if imageRecipes[n] == nil {
					return badInput(fmt.Errorf("no image recipe for system %q (known: %v)", n, slices.Sorted(maps.Keys(imageRecipes))))
				}
			}
			if err := cluster.Available(ctx); err != nil {
				return err
			}
			base, err := cluster.EnsureDebianBase(ctx)
			if err != nil {
				return err
			}
			printImage(base)
			for _, n := range names {
				spec, err := imageRecipes[n](ctx)
				if err != nil {
					return fmt.Errorf("get %s image: %w", n, err)
				}
				img, err := cluster.EnsureImage(ctx, spec)
				if err != nil {
					return err
				}
				printImage(img)
			}
			return nil
		},
	}
}

// printImage prints one line per image on stdout: what it is and whether it
// was built now.
func printImage(img cluster.Image) {
	how := "found"
	if img.Built {
		how = "built"
	}
	fmt.Fprintf(os.Stdout, "%s %s in %v\n", img.Ref, how, img.Took.Round(time.Millisecond))
}
