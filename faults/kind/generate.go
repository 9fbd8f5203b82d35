package kind

//go:generate go test -run TestDocsFaultTable -update .
