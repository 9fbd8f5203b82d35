package image

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
)

// Ship makes img present on dst under the same reference and content,
// loading it from src (docker save | docker load) unless dst has it
// already: the content tag and the image ID make this a content cache. A
// cluster over several engines builds on the first and ships to the rest.
func Ship(ctx context.Context, src, dst *engine.Engine, img Image) error {
	if found, err := dst.Client().ImageInspect(ctx, img.Ref); err == nil && found.ID == img.ID {
		return nil
	}
	unlock, err := lockImage(ctx, "ship-"+strings.NewReplacer("/", "_", ":", "_").Replace(dst.Host)+"-"+img.Ref)
	if err != nil {
		return err
	}
	defer unlock()
	if found, err := dst.Client().ImageInspect(ctx, img.Ref); err == nil && found.ID == img.ID {
		return nil
	}
	began := time.Now()
	saved, err := src.Client().ImageSave(ctx, []string{img.Ref})
	if err != nil {
		return fmt.Errorf("save image %s on %s: %w", img.Ref, src.Name, err)
	}
	defer saved.Close()
	loaded, err := dst.Client().ImageLoad(ctx, saved, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load image %s on %s: %w", img.Ref, dst.Name, err)
	}
	var out bytes.Buffer
	_, err = out.ReadFrom(loaded)
	loaded.Close()
	if err != nil {
		return fmt.Errorf("load image %s on %s: %w", img.Ref, dst.Name, err)
	}
	found, err := dst.Client().ImageInspect(ctx, img.Ref)
	if err != nil || found.ID != img.ID {
		return fmt.Errorf("load image %s on %s: not there after loading (%s): %w", img.Ref, dst.Name, strings.TrimSpace(out.String()), err)
	}
	slog.Info("image shipped", "image", img.Ref, "from", src.Name, "to", dst.Name, "took", time.Since(began).Round(time.Millisecond))
	return nil
}
