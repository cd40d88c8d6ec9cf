package mapping

import (
	"fmt"
	"testing"
)

// BenchmarkMap maps canonical records of each kind and reports records a second; run with
// -benchmem for allocations a record.
func BenchmarkMap(b *testing.B) {
	bind, err := Canonical().Bind([]string{"account_uuids", "type", "name", "value", "country", "is_primary"}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	records := map[string][]string{
		"uk-mobile": {jane, "mobile", "Mobile", "07400 123456", "UK", "yes"},
		"foreign":   {jane + ";" + john, "phone", "Office", "(02) 9876 5123", "Australia", "no"},
		"email":     {jane, "email", "Personal", "Jane.Doe@Example.co.uk", "", "y"},
		"invalid":   {"C-1001", "fax", "", "07700 900123", "Narnia", "maybe"},
	}
	for name, rec := range records {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if r := bind.Map(rec); len(r) != 1 {
					b.Fatal(fmt.Sprint(r))
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
