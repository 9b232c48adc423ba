package datasource

// The vocabulary of the demo dataset. Functions rather than package
// variables, so that nothing package-level is mutable.

// demoName is a name as written and in Latin letters (for e-mail addresses).
type demoName struct{ native, latin string }

// demoLocale is a country with its cities and common names.
type demoLocale struct {
	country     string
	region      string
	cities      []string
	first, last []demoName
	familyFirst bool    // the family name is written first (Japan)
	weight      float64 // share of customers
}

func n(native, latin string) demoName { return demoName{native, latin} }

// same is a name that is already in Latin letters.
func same(names ...string) []demoName {
	out := make([]demoName, len(names))
	for i, s := range names {
		out[i] = demoName{s, s}
	}
	return out
}

func demoLocales() []demoLocale {
	return []demoLocale{
		{"United States", "AMER", []string{"New York", "San Francisco", "Austin", "Chicago", "Seattle"},
			same("James", "Olivia", "Michael", "Emma", "Ava", "Noah", "Sophia", "Ethan"),
			[]demoName{n("Smith", "smith"), n("Johnson", "johnson"), n("O'Brien", "obrien"), n("García", "garcia"), n("Miller", "miller"), n("Nguyen", "nguyen"), n("Davis", "davis")},
			false, 22},
		{"Canada", "AMER", []string{"Montréal", "Toronto", "Vancouver"},
			[]demoName{n("Chloé", "chloe"), n("Liam", "liam"), n("Élodie", "elodie"), n("Noah", "noah"), n("Gabriel", "gabriel")},
			[]demoName{n("Tremblay", "tremblay"), n("Gagnon", "gagnon"), n("Côté", "cote"), n("Roy", "roy"), n("MacDonald", "macdonald")},
			false, 6},
		{"Brazil", "AMER", []string{"São Paulo", "Rio de Janeiro", "Belo Horizonte"},
			[]demoName{n("João", "joao"), n("Ana", "ana"), n("Luís", "luis"), n("Beatriz", "beatriz"), n("Conceição", "conceicao")},
			[]demoName{n("Silva", "silva"), n("Araújo", "araujo"), n("Gonçalves", "goncalves"), n("Pereira", "pereira"), n("Assunção", "assuncao")},
			false, 7},
		{"Mexico", "AMER", []string{"Ciudad de México", "Guadalajara", "Monterrey"},
			[]demoName{n("José", "jose"), n("María", "maria"), n("Sofía", "sofia"), n("Alejandro", "alejandro")},
			[]demoName{n("Hernández", "hernandez"), n("López", "lopez"), n("Martínez", "martinez"), n("Peña", "pena")},
			false, 4},
		{"United Kingdom", "EMEA", []string{"London", "Manchester", "Edinburgh"},
			same("Oliver", "Amelia", "Harry", "Isla", "George", "Freya"),
			same("Taylor", "Brown", "Wilson", "Evans", "Thompson", "Clarke"),
			false, 9},
		{"Germany", "EMEA", []string{"München", "Berlin", "Köln", "Düsseldorf"},
			[]demoName{n("Jürgen", "juergen"), n("Anna", "anna"), n("Lukas", "lukas"), n("Lea", "lea"), n("Björn", "bjoern")},
			[]demoName{n("Müller", "mueller"), n("Schäfer", "schaefer"), n("Groß", "gross"), n("Köhler", "koehler"), n("Weber", "weber")},
			false, 8},
		{"France", "EMEA", []string{"Paris", "Lyon", "Besançon"},
			[]demoName{n("Zoé", "zoe"), n("Éloïse", "eloise"), n("François", "francois"), n("Hugo", "hugo")},
			[]demoName{n("Lefèvre", "lefevre"), n("Dubois", "dubois"), n("Moreau", "moreau"), n("Bérenger", "berenger")},
			false, 6},
		{"Poland", "EMEA", []string{"Łódź", "Kraków", "Gdańsk", "Warszawa"},
			[]demoName{n("Łukasz", "lukasz"), n("Zofia", "zofia"), n("Małgorzata", "malgorzata"), n("Paweł", "pawel"), n("Agnieszka", "agnieszka")},
			[]demoName{n("Wiśniewski", "wisniewski"), n("Kowalczyk", "kowalczyk"), n("Wójcik", "wojcik"), n("Zieliński", "zielinski"), n("Nowak", "nowak")},
			false, 5},
		{"Denmark", "EMEA", []string{"Ærøskøbing", "København", "Aarhus"},
			[]demoName{n("Søren", "soren"), n("Mette", "mette"), n("Jørgen", "jorgen"), n("Freja", "freja")},
			[]demoName{n("Sørensen", "sorensen"), n("Jørgensen", "jorgensen"), n("Nielsen", "nielsen"), n("Møller", "moller")},
			false, 3},
		{"Switzerland", "EMEA", []string{"Zürich", "Genève", "Basel"},
			[]demoName{n("Jürg", "juerg"), n("Anouk", "anouk"), n("Lukas", "lukas"), n("Chloé", "chloe")},
			[]demoName{n("Meier", "meier"), n("Brügger", "bruegger"), n("Favre", "favre"), n("Keller", "keller")},
			false, 4},
		{"Greece", "EMEA", []string{"Αθήνα", "Θεσσαλονίκη"},
			[]demoName{n("Δημήτρης", "dimitris"), n("Ελένη", "eleni"), n("Γιώργος", "giorgos"), n("Μαρία", "maria")},
			[]demoName{n("Παπαδόπουλος", "papadopoulos"), n("Νικολάου", "nikolaou"), n("Γεωργίου", "georgiou")},
			false, 3},
		{"India", "APAC", []string{"Bengaluru", "Mumbai", "Pune"},
			same("Aarav", "Priya", "Rohan", "Ananya", "Vikram"),
			same("Sharma", "Patel", "Iyer", "Reddy", "Gupta"),
			false, 6},
		{"Japan", "APAC", []string{"東京", "大阪", "京都"},
			[]demoName{n("健太", "kenta"), n("さくら", "sakura"), n("翔", "sho"), n("陽菜", "hina")},
			[]demoName{n("佐藤", "sato"), n("鈴木", "suzuki"), n("高橋", "takahashi"), n("田中", "tanaka")},
			true, 6},
		{"Australia", "APAC", []string{"Sydney", "Melbourne", "Brisbane"},
			same("Jack", "Charlotte", "William", "Mia"),
			same("Williams", "Jones", "Kelly", "Walsh"),
			false, 6},
		{"Singapore", "APAC", []string{"Singapore"},
			same("Wei", "Hui Min", "Arjun", "Nur"),
			same("Tan", "Lim", "Lee", "Rahman"),
			false, 3},
	}
}

// demoProduct is a catalogue entry; price is in cents.
type demoProduct struct {
	name     string
	category string
	price    int64
}

func demoProducts() []demoProduct {
	return []demoProduct{
		{"Aurora 13 Laptop", "Laptops", 109900},
		{"Aurora 15 Laptop", "Laptops", 134900},
		{`Nimbus Pro 14" Laptop, 32 GB`, "Laptops", 219900},
		{"Nimbus Air 13 Laptop", "Laptops", 99900},
		{"Vector Gaming Laptop 17", "Laptops", 249900},
		{"Scribe Chromebook 11", "Laptops", 32900},
		{"Atlas Workstation 16", "Laptops", 289900},
		{"Pico Netbook 10", "Laptops", 24900},
		{"Aurora 13 Laptop (2nd gen)", "Laptops", 119900},
		{"Nimbus Pro 16 Laptop", "Laptops", 259900},
		{`Horizon 27" 4K Monitor`, "Monitors", 44900},
		{`Horizon 32" 4K Monitor`, "Monitors", 64900},
		{"Vista 24 Office Monitor", "Monitors", 17900},
		{"Vista 27 Office Monitor", "Monitors", 22900},
		{"Panorama 34 Ultrawide", "Monitors", 79900},
		{"Pulse 240 Hz Gaming Monitor", "Monitors", 52900},
		{"Studio 5K Display", "Monitors", 149900},
		{"Travel 15.6 Portable Monitor", "Monitors", 21900},
		{"Vista 22 Monitor", "Monitors", 12900},
		{"Horizon 27 QHD Monitor", "Monitors", 32900},
		{"Glide Wireless Mouse", "Accessories", 2999},
		{"Glide Pro Mouse", "Accessories", 7999},
		{"Clack Mechanical Keyboard", "Accessories", 12900},
		{"Whisper Low-Profile Keyboard", "Accessories", 8900},
		{"Dock 12-in-1 USB-C Hub", "Accessories", 18900},
		{"Sleeve 14 Laptop Sleeve", "Accessories", 3499},
		{"Stand Aluminium Laptop Stand", "Accessories", 4999},
		{"Cable USB-C 2 m", "Accessories", 1599},
		{"Charger 100 W GaN", "Accessories", 6999},
		{"Webcam 4K Autofocus", "Accessories", 14900},
		{"Echo Wireless Headphones", "Audio", 24900},
		{"Echo Buds", "Audio", 14900},
		{"Studio Monitor Speakers (pair)", "Audio", 39900},
		{"Podcast USB Microphone", "Audio", 12900},
		{"Conference Speakerphone", "Audio", 19900},
		{"Echo Buds Lite", "Audio", 7900},
		{"Soundbar 2.1", "Audio", 29900},
		{"Headset Office Duo", "Audio", 8900},
		{"DAC Pocket Amp", "Audio", 11900},
		{"Echo Over-Ear Studio", "Audio", 34900},
		{"Office Suite — 1 year", "Software", 9900},
		{"Office Suite — perpetual", "Software", 29900},
		{"Antivirus Plus (3 devices)", "Software", 4999},
		{"Photo Studio Pro", "Software", 14900},
		{"Backup Cloud 1 TB — 1 year", "Software", 6999},
		{"VPN Shield — 1 year", "Software", 5999},
		{"Dev Tools Bundle", "Software", 24900},
		{"Password Vault Family", "Software", 3999},
		{"Video Editor Express", "Software", 7999},
		{"Tax & Finance Helper", "Software", 4499},
		{"Extended Warranty 2 years", "Services", 14900},
		{"Extended Warranty 3 years", "Services", 21900},
		{"Express Setup Service", "Services", 7900},
		{"Data Migration Service", "Services", 12900},
		{"On-site Support Visit", "Services", 19900},
		{"Screen Protection Plan", "Services", 4900},
		{"Training Workshop (half day)", "Services", 39900},
		{"Recycling & Trade-in", "Services", 1500},
		{"Priority Support — 1 year", "Services", 29900},
		{"Device Enrollment (per device)", "Services", 2900},
	}
}
