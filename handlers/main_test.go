package handlers_test

import (
	"testing"

	"sherpa/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m, storetest.MySQLGroup) }
